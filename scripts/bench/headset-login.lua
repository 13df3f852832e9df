-- wrk script: POST a headset login with the device token and a user's ID and PIN.
-- Set by scripts/bench-headset-login through the environment.
wrk.method = "POST"
wrk.body = string.format('{"user_id": "%s", "pin": "%s"}', os.getenv("BENCH_USER"), os.getenv("BENCH_PIN"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_DEVICE_TOKEN")

function done(summary, latency, requests)
  io.write(string.format("non-2xx or errors: %d\n", summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
