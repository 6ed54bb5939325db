/**
 * zod, configured before any schema is built; every module takes `z` from
 * here. The schemas also run in the browser (the rule editor, the reports,
 * the API client's shapes) under a CSP without 'unsafe-eval', and zod's
 * compiled object parsers probe `Function("")` when a schema is built: a
 * policy violation, reported, even though zod then falls back. Configured in
 * the module each schema module imports, it is in force before the first one.
 */
import { z } from "zod";

z.config({ jitless: true });

export { z };
