package app

import (
	"fmt"
	"log/slog"

	"github.com/wagate/wagate/adapters/prom"
	"github.com/wagate/wagate/ports"
)

// measureQueue puts the job metrics around the queue chooseQueue chose:
// jobs are stamped with their due time when enqueued and timed when run
// (wagate_job_*), and the queue itself is counted at scrape time
// (wagate_queue_jobs). Call it before any handler is registered.
func (s *system) measureQueue(log *slog.Logger) error {
	jobs, err := prom.NewJobs(s.metrics)
	if err != nil {
		return fmt.Errorf("job metrics: %w", err)
	}
	// Both queues count their jobs; a queue that could not would only
	// lose the depth gauge.
	if counter, ok := s.queue.(ports.JobCounter); ok {
		if err := prom.NewQueueDepth(s.metrics, counter, jobs.Types, prom.ScrapeOptions{Log: log}); err != nil {
			return fmt.Errorf("queue metrics: %w", err)
		}
	}
	s.queue, s.runner = jobs.Queue(s.queue), jobs.Runner(s.runner)
	return nil
}

// measureEvents registers the scrape-time status gauges (wagate_sessions,
// wagate_messages) and returns bus counting the status changes the event
// dispatcher publishes through it (wagate_*_status_changes_total).
func (s *system) measureEvents(bus ports.EventBus, log *slog.Logger) (ports.EventBus, error) {
	if err := prom.NewStatusCounts(s.metrics, s.store.StatusCounts(), prom.ScrapeOptions{Log: log}); err != nil {
		return nil, fmt.Errorf("status metrics: %w", err)
	}
	events, err := prom.NewEvents(s.metrics)
	if err != nil {
		return nil, fmt.Errorf("event metrics: %w", err)
	}
	return events.Bus(bus), nil
}
