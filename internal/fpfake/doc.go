// Package fpfake is an in-process simulator of Front Payment's (FP) order API,
// built from FP's published documentation (the "seeds": one document per
// endpoint, summed up in docs/fp-contract.md), not from what our
// own client sends: it is the only stand-in for FP in tests, in `worker demo`
// and in benchmarks, and the project is also tried against a different
// stand-in built from the same seeds. cmd/fpsim runs it standalone.
//
// # What is simulated
//
//   - The four create endpoints (checkout session, invoice, hosted checkout,
//     send payment link; fpclient.Kind.Path) and GET
//     /api/v1/connect/orders/status/{orderUuid}, behind a bearer token (401
//     "Unauthenticated" otherwise).
//   - Every rule of each seed's validation table, with Laravel's semantics
//     (required, nullable, numeric that takes numbers and numeric strings,
//     boolean that takes true/false/0/1/"0"/"1", string, email, url, in,
//     required_if/required_with, regex), answered as FP's demo API does: 417
//     "payloadValidationErrors" with a flat list of Laravel sentences ("The
//     customer details.email must be a valid email address."), or, as a
//     variant, an object of field → messages. The money must add up to the
//     øre (see checkMoney).
//   - FP's 201 bodies per endpoint, with its headers (x-ratelimit-limit 240,
//     x-ratelimit-remaining counting down per token and minute), ids shaped
//     like FP's (ODR/CSRT + 10 digits), JSON with escaped slashes as Laravel
//     writes it; the payment link's null-data 201 as a variant.
//   - Updates: fpgoUuid with orderFrom PARTNER updates that order (same
//     uuid, 201); an unknown one is 404 orderNotFound, a paid one 400
//     orderAlreadyPaid.
//   - Actions on an order FP has (actions.go): POST orders/resend/{uuid}
//     {countryCode, msisdn, email} and orders/cancel/{uuid}
//     {cancellationNote}: 202 when taken on, 400 "Conflict of Business
//     Logic" for a paid or cancelled order, 404 orderNotFound. An accepted
//     cancel stops the order's plan and reports CANCELLED by callback after
//     the callback delay; resends are counted per order (Resends).
//   - Callbacks: GET callbackUrl + orderUuid, status, createdAt, timestamp,
//     checksum, after a delay, per a plan (SENT, then PAID), retried on
//     failure; the status endpoint shows the last status.
//   - Faults (Faults): latency, FP's 500/510, 429 with Retry-After and an
//     optional enforced per-minute limit, gateway 502/503/504 with an HTML
//     body before or after the order is created, and "accept then drop".
//   - Counting for tests: orders with kind, body and reference, creations
//     per reference, answers by status, a timed request log.
//
// # How the seeds' ambiguities are resolved
//
// Where the seeds disagree with themselves or each other, the simulator
// takes the reading a careful integrator must satisfy anyway (the stricter):
//
//   - Optional fields are nullable (the examples send null for them).
//   - Tax is one of 0, 12, 15, 25 for every kind (the payment-link table
//     names no set).
//   - Languages (preferredLanguage, checkoutLanguage) are en, no, sv, da, de
//     in lower case (the payment-link table's "NO, EN" is not accepted);
//     preferredLanguage is required for payment links (its rules) and
//     optional elsewhere.
//   - personalNumber, where sent, is exactly 11 digits in a string; it is
//     required for private customers of invoices and payment links (their
//     tables), optional for checkout and hosted checkout.
//   - organizationId is required for corporate customers; a string of
//     exactly 9 digits for payment links (its regex), digits (string or
//     number) elsewhere ("numeric" / "alphanumeric" / "number" in the tables).
//   - customerDetails.email is an email rule everywhere (the checkout table
//     types it "string" but calls it an email address).
//   - orderDate and dueDateForPaymentLink are strings of at most ten digits
//     (unix seconds); for checkout and hosted checkout the orderDate's date
//     in Europe/Oslo must be today or later.
//   - The payment link's callback.callbackUrl is required and a URL (its
//     rules say nullable url, its table "required | array", a typo);
//     sendOrderBy.invoice is required (rules) although its table omits it;
//     address and its four fields are required (rules and table).
//   - orderFrom/fpgoUuid apply to all four endpoints (the payment-link seed
//     omits them).
//   - products must be a non-empty list; an object keyed "0", "1", … is
//     accepted too, as the payment-link example sends it (PHP's rendering of
//     a list).
//   - shippingCost counts only for checkout sessions, the one kind that
//     documents it.
//   - The payment-link seed's 500/510 messages are translation keys
//     ("internalErrorOccurredPleaseTryAgainLater", "somethingWentWrong");
//     that endpoint answers them so, the others answer the sentences.
//   - The callback example's "×tamp=" is "&timestamp=" mangled by an HTML
//     entity. The checksum is the seeds' keyless formula unless a key is
//     configured, then SHA-256(orderUuid + status + createdAt + key).
//   - Answers the seeds do not show (401, 404, 400, 429, the status endpoint)
//     follow the shapes recorded from FP's demo API (docs/fp-contract.md).
//   - A body that is not JSON, or not sent as application/json, reads as
//     empty input, as Laravel reads it: a 417 listing every required field.
//   - Unlike Laravel's default middleware, strings are not trimmed and
//     numeric strings may not carry spaces: " NO" is not a country.
package fpfake
