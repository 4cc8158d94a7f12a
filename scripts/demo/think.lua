-- think.lua - wrk script of the demo and bench/closed-loop: every
-- connection is one client that waits a random think time (uniform in
-- 0..2*THINK ms, THINK from the first script argument, default 10000) after
-- each response, so the offered load grows with the number of clients
-- instead of always saturating the servers. Prints one machine-readable
-- line at the end:
--   VSRESULT requests=N status_errors=N timeouts=N connect=N read=N write=N
--            mean_ms=X p50_ms=X p90_ms=X p99_ms=X max_ms=X duration_s=X
-- (latency only over completed requests; wrk measures it per request, from
-- sending to the end of the response, not counting the think time).

local think = 10000

-- one connection per request, as siege does by default: a client whose idle
-- keep-alive connection nginx closes at a reload would otherwise count a
-- read error that a browser silently retries
wrk.headers["Connection"] = "close"

function init(args)
	if args[1] then
		think = tonumber(args[1]) or think
	end
	-- a different random sequence in every thread
	local addr = tostring({}):match("0x(%x+)") or "0"
	math.randomseed(os.time() + (tonumber(addr:sub(-6), 16) or 0))
end

function delay()
	return math.random(0, 2 * think)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"VSRESULT requests=%d status_errors=%d timeouts=%d connect=%d read=%d write=%d " ..
		"mean_ms=%.1f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f duration_s=%.1f\n",
		summary.requests, e.status, e.timeout, e.connect, e.read, e.write,
		latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000, summary.duration / 1e6))
end
