// Etsy statsd backend for the benchmark: receives every flush (statsd still computes its aggregates and
// timer percentiles) and sends nothing anywhere.
exports.init = (_startupTime, _config, events) => {
  events.on('flush', () => {});
  return true;
};
