-- wrk script for the poll benchmark (tests/bench/run.sh).
--
-- Every request is the root poll of one device picked at random among
-- BENCH_DEVICES ids, dev-0000001 .. dev-NNNNNNN (the ids seed.sh creates):
--   GET /DEFAULT/controller/v1/dev-0000042
-- nginx gets the very same requests (its config rewrites them to one static
-- file), so both sides pay the same client-side cost.
--
-- done() prints one parseable line:
--   BENCH requests=N duration_us=N bytes=N rps=F p50_us=N p99_us=N ...
local devices = tonumber(os.getenv("BENCH_DEVICES") or "1000")
local prefix = os.getenv("BENCH_PREFIX") or "/DEFAULT/controller/v1/dev-"
-- BENCH_CLOSE=1: "Connection: close", a new connection (over HTTPS a new
-- TLS handshake) for every request.
local close = os.getenv("BENCH_CLOSE") == "1" and "Connection: close\r\n" or ""
local host
local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("thread_no", nthreads)
end

function init(args)
	-- Distinct sequences per thread and per run.
	math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
	host = wrk.headers["Host"]
end

function request()
	return string.format("GET %s%07d HTTP/1.1\r\nHost: %s\r\n%s\r\n",
	    prefix, math.random(devices), host, close)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    "BENCH requests=%d duration_us=%d bytes=%d rps=%.1f " ..
	    "p50_us=%d p99_us=%d max_us=%d err_connect=%d err_read=%d " ..
	    "err_write=%d err_status=%d err_timeout=%d\n",
	    summary.requests, summary.duration, summary.bytes,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.status, e.timeout))
end
