// Package crash proves that wagate keeps its delivery promises when its
// process dies without warning.
//
// Each test runs the real `wagate serve` binary as a separate process (built
// once, in TestMain) on a database of its own, with the simulated WhatsApp
// network and the webhook receiver running in the test process, so that
// they outlive the server. Mid-run the test kills the process with SIGKILL
// (no drain, no last write), starts it again on the same database and
// queue, and counts what reached the outside world:
//
//   - webhooks (SPEC §9, issue 5): 500 inbound messages make 500
//     message.received deliveries to a receiver that fails the first
//     attempt of every third event and holds a request unanswered when the
//     kill comes; after the restart every event reaches the receiver, and
//     each webhook-id is answered 2xx exactly once, the other requests
//     being retries of failed or cut-off attempts;
//   - messages (SPEC §6 and §8, issue 4): a bulk of 1,000 recipients, and
//     300 single messages, are interrupted by the kill; every
//     recipient's phone receives exactly one message, the one the server
//     recorded. The kill is placed between a send and its record: a proxy
//     between the server and the simulator slows, then holds, WhatsApp's
//     answers, so a message reaches its phone while the server still has
//     it as sending; after the restart it is sent again with the same
//     WhatsApp id, which the phone drops as a repeat, as a real phone
//     does. With asynq, a second batch loses the queue's Redis keys
//     mid-run, and the relays, re-enqueuing from the database, still lose
//     and double nothing.
//   - the event log (SPEC §10, issue 11): three SIGKILLs at random
//     moments (WAGATE_CRASH_SEED replays them) while 1,000 inbound
//     messages and 1,000 sends are processed and the phones' receipts
//     come in, each kill with a send out and unrecorded (the proxy again),
//     inbound messages on their way and webhook requests held. After the
//     last restart the log is read from the database: every inbound
//     message has exactly one message.received, every send's
//     message.status events are its moves (none twice, ending at its
//     status, one for each time the row records); two webhook endpoints
//     ("*" and message.received) answered every subscribed event 2xx
//     exactly once per webhook-id; and a WebSocket client that
//     reconnected with ?after=<last id> through the kills got the whole
//     log once, in order.
//
// Both queue modes run: the embedded queue, durable in the database
// (SQLite, no WAGATE_REDIS_URL), and asynq on Redis (PostgreSQL and
// WAGATE_REDIS_URL with a prefix of the test's own). Tests needing
// PostgreSQL or Redis skip without TEST_DATABASE_URL or TEST_REDIS_URL,
// except under CI=true, where they fail.
//
// Recovery is by the durable mechanisms, not shortcuts, with the server's
// thresholds set short (WAGATE_LEASE_TTL, WAGATE_QUEUE_LEASE,
// WAGATE_SEND_TIMEOUT and so the send claim's staleness,
// WAGATE_RELAY_AFTER): the instance's lease, the embedded queue's lease, a
// stale claim's resend, the relays. asynq's recoverer waits one to two
// minutes after a crash and cannot be configured: before the restart the
// test dates the killed process's asynq leases back past the recoverer's
// cutoff, and the new process's recoverers take the tasks back at their
// start. The bulk relay's 45 s idle threshold is fixed, and a Redis flush
// waits for it. A variant takes about a minute or more; -short skips them.
// WAGATE_CRASH_RACE=true builds the server with -race too.
package crash
