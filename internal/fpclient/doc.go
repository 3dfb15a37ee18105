// Package fpclient talks to Front Payment's (FP) connect API: it builds the
// four kinds' payloads (Kind, payload.go), sends one request per call, and
// turns every answer into either a success (Created, Status) or one *Error
// whose Class says what may happen next. It never sleeps and never retries:
// River owns the waiting, and the submit job (internal/jobs submit.go) acts
// on the class. FP has no idempotency key, so the class is what keeps an
// order from reaching FP twice: a request that may have created the order is
// never taken for one that certainly did not. Classify is the one place that
// decides it; docs/fp-contract.md records the answer shapes from FP's demo
// API that the seed documents do not show.
//
// # Answer classes
//
// What FP (or whatever stands between us and FP) answers a create request,
// the class it gets, and what the submit job then does with the order:
//
//	Answer                                   Class       Submit job
//	---------------------------------------  ----------  --------------------------------------------
//	2xx (201; a payment link's "data": null  created     order submitted, FP's orderUuid stored (the
//	is a success too: the first callback     (no error)  next request for it carries it as fpgoUuid);
//	brings the id)                                       a callback that came first keeps its status
//	429, 408; 503 in FP's envelope or with   Retryable   order back to queued; with Retry-After the
//	Retry-After; 500, 510 (any 5xx but                   job snoozes that long (no attempt spent) and
//	502/504) in FP's envelope: "try again                every process waits too; otherwise River
//	later"; nothing written on the wire                  retries with backoff (2 s doubling to 10 min);
//	(DNS, refused, TLS)                                  after SubmitMaxAttempts the order is failed
//	401, 403                                 Auth        order stays queued, no attempt spent; sending
//	                                                     pauses for every process, the job snoozes one
//	                                                     pause period; one probe request per period,
//	                                                     and any other answer to it resumes sending
//	any other 4xx (417 validation with FP's  Permanent   order provider_rejected, with FP's message and
//	field errors, 400 business rule, 404,                field errors kept; the job ends, no retry
//	422); an unknown kind or a payload that
//	cannot be encoded
//	5xx outside FP's envelope (a gateway's   Ambiguous   invoice and payment link (they notify the
//	502/503/504, a proxy's 500), 502 and                 customer): needs_review, never sent again
//	504 always, 1xx/3xx; request written,                blindly; checkout and hosted checkout (they
//	no answer (timeout, reset); an error                 only create a URL): retried as Retryable,
//	not from this package                                failed after SubmitMaxAttempts
//
// Every answer's x-ratelimit-limit and x-ratelimit-remaining (RateLimit) go
// to the shared throttle, which spreads the requests over FP's per-minute
// budget. OrderStatus (GET orders/status/{orderUuid}, asked by the status
// poll and when a callback must be confirmed) is classified the same way,
// except that FP's 404 orderNotFound wraps ErrOrderNotFound and a 200
// without a status is Retryable (asking again changes nothing at FP).
//
// Before each request the submit job commits an attempt; a run that finds
// an earlier attempt without an outcome treats it as Ambiguous (written, no
// answer), unless the process that sent it is alive and may still record
// FP's answer.
package fpclient
