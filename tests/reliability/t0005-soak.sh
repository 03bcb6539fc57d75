#!/usr/bin/env bash
# The short soak (tests/sim/soak.sh: 1,000 simulated devices through a
# rollout, ~40 s), run with the reliability suite by make test.  make soak
# runs the long one (SOAK=long, 10,000 devices).
exec bash "$(dirname "$0")/../sim/soak.sh" "$@"
