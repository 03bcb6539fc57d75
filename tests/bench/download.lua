-- wrk script for the download benchmark (tests/bench/run.sh).
--
-- Without BENCH_RANGE: plain GETs of the URL given to wrk (whole file).
-- With BENCH_RANGE=BYTES and BENCH_SIZE=FILE_SIZE: every request is a GET
-- with "Range: bytes=O-(O+BYTES-1)" at a random offset O, as a resuming
-- or streaming client (rauc-hawkbit-updater) sends them.
--
-- done() prints one parseable line:
--   BENCH requests=N duration_us=N bytes=N mbps=F p50_us=N p99_us=N ...
-- mbps is MB/s, 10^6 bytes per second of response bytes (headers
-- included, which is noise next to 1 MiB bodies).
local range = tonumber(os.getenv("BENCH_RANGE") or "0")
local size = tonumber(os.getenv("BENCH_SIZE") or "0")
local nthreads = 0
local path, host

function setup(thread)
	nthreads = nthreads + 1
	thread:set("thread_no", nthreads)
end

function init(args)
	math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
	path = wrk.path
	host = wrk.headers["Host"]
end

function request()
	if range <= 0 then
		return string.format("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
		    path, host)
	end
	local o = math.random(0, size - range)
	return string.format("GET %s HTTP/1.1\r\nHost: %s\r\n" ..
	    "Range: bytes=%d-%d\r\n\r\n", path, host, o, o + range - 1)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    "BENCH requests=%d duration_us=%d bytes=%d mbps=%.1f rps=%.1f " ..
	    "p50_us=%d p99_us=%d max_us=%d err_connect=%d err_read=%d " ..
	    "err_write=%d err_status=%d err_timeout=%d\n",
	    summary.requests, summary.duration, summary.bytes,
	    summary.bytes / summary.duration,
	    summary.requests / (summary.duration / 1e6),
	    latency:percentile(50), latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.status, e.timeout))
end
