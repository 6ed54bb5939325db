/**
 * Where test servers record their API answers for the contract check
 * (lib/api/contract-log.ts, scripts/contract-check.ts): KEEPWATCH_CONTRACT_LOG
 * when set, else `.contract-log/` at the repository root.
 */
import { resolve } from "node:path";
import { CONTRACT_LOG_ENV } from "../api/contract-log";

export function contractLogDir(): string {
  return resolve(process.env[CONTRACT_LOG_ENV] || ".contract-log");
}
