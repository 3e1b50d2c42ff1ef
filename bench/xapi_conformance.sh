#!/usr/bin/env bash
# The ADL LRS conformance test suite against this service: copies the suite to a scratch
# directory, npm installs it there, serves the API on a free port over a scratch SQLite
# database, creates a client with the xAPI scopes and runs the suite (HTTP Basic) for xAPI
# 1.0.3 (the server speaking 1.0 only) and 2.0.0 (the server speaking both, the default),
# printing the pass counts per section; XAPI_CONFORMANCE_LOGS=DIR keeps the full run logs. Usage: bench/xapi_conformance.sh SUITE [VENV_BIN]
set -euo pipefail
suite=$(cd "${1:?the suite directory}" && pwd)
bin=$(cd "${2:-.venv/bin}" && pwd)
bound=${XAPI_CONFORMANCE_TIMEOUT:-1800}  # seconds per version at most
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d /tmp/iqt-xapi-conformance.XXXXXX)
server=""
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$scratch"
}
trap cleanup EXIT

cp -r "$suite" "$scratch/suite"
(cd "$scratch/suite" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export IQT_DATABASE_URL="sqlite:///$scratch/iqt.db"
"$bin/iqt" migrate >/dev/null
created=$("$bin/iqt" clients create --name "xAPI conformance" \
	--scopes completions:read,completions:write --rate-limit 1000000/minute)
client_id=$("$bin/python" -c 'import json, sys; print(json.loads(sys.argv[1])["clientId"])' "$created")
secret=$("$bin/python" -c 'import json, sys; print(json.loads(sys.argv[1])["clientSecret"])' "$created")

# The server, speaking the xAPI versions given (IQT_XAPI_VERSIONS).
serve() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	IQT_XAPI_VERSIONS=$1 "$bin/iqt" serve --port "$port" >>"$scratch/server.log" 2>&1 &
	server=$!
	for _ in $(seq 1 300); do
		if curl -fs "http://127.0.0.1:$port/xapi/about" >/dev/null; then break; fi
		sleep 0.1
	done
	curl -fs "http://127.0.0.1:$port/xapi/about" >/dev/null
}

status=0
for version in 1.0.3 2.0.0; do
	# 1.0.3 against an LRS of 1.0 only: the 1.0.3 suite wants a request without a version
	# header refused as 1.0.3, the 2.0.0 suite the same request as 2.0.0 (the latest spoken).
	if [ "$version" = 1.0.3 ]; then spoken=1.0.3; else spoken=1.0.3,2.0.0; fi
	serve "$spoken"
	echo "== xAPI $version (IQT_XAPI_VERSIONS=$spoken) =="
	rm -rf "$scratch/suite/logs"
	(cd "$scratch/suite" && timeout "$bound" node bin/console_runner.js \
		-e "http://127.0.0.1:$port/xapi" -a -u "$client_id" -p "$secret" -x "$version" \
		>"$scratch/console-$version.txt" 2>&1) || true  # it exits with its count of failures
	grep '"total"' "$scratch/console-$version.txt" | tail -n 1 || true
	# The runner writes its full log (JSON) under logs/ when it finishes: the counts per section.
	ls "$scratch"/suite/logs/*.log >/dev/null 2>&1 || status=1
	for log in "$scratch"/suite/logs/*.log; do
		[ -f "$log" ] || continue
		"$bin/python" "$here/xapi_conformance_summary.py" "$log"
		if [ -n "${XAPI_CONFORMANCE_LOGS:-}" ]; then
			cp "$log" "$XAPI_CONFORMANCE_LOGS/xapi-conformance-$version.json"
		fi
	done
done
exit $status
