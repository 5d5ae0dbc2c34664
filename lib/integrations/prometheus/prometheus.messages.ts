// Messages of the Prometheus integration, in one place: each says how to fix what it reports.

export function metricAlreadyRegistered(name: string): string {
  return (
    `Metric "${name}" is already registered in this prom-client registry: another FlumeMetricsModule ` +
    '(a second app in this process, or a second import) uses it. Give each app its own registry: ' +
    'FlumeMetricsModule.forRoot({ registry: new Registry() }).'
  );
}

export function statsUnreadable(message: string): string {
  return (
    `Could not read the job counts of the queues for flume_queue_jobs: ${message}. ` +
    'The scrape goes on without them; counters and histograms are not affected.'
  );
}
