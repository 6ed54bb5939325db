/**
 * Reads schema.prisma's DMMF with the schema WebAssembly module that ships
 * inside the installed `prisma` package (build/prisma_schema_build_bg.wasm:
 * the same parser `prisma generate` uses), so no native engine and no
 * hand-written parser is involved.
 *
 * The package bundles its JavaScript glue for that module into the CLI, so a
 * minimal glue lives here: it passes a UTF-8 string in and reads one out. The
 * module's import names carry a build hash; they are matched by prefix so a
 * Prisma upgrade keeps working, and an import this glue does not know fails
 * loudly instead of misbehaving.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The subset of Prisma's DMMF datamodel the store relies on. */
export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  isUpdatedAt: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: DmmfDefault | DmmfLiteral | DmmfLiteral[];
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
export type DmmfLiteral = string | number | boolean;
export interface DmmfDefault {
  name: string;
  args: unknown[];
}
export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
}
export interface DmmfIndex {
  model: string;
  type: "id" | "normal" | "unique" | "fulltext";
  isDefinedOnField: boolean;
  name?: string;
  dbName?: string;
  algorithm?: string;
  fields: { name: string; sortOrder?: "asc" | "desc"; length?: number; operatorClass?: string }[];
}
export interface DmmfDatamodel {
  enums: { name: string; dbName?: string | null; values: { name: string; dbName: string | null }[] }[];
  models: DmmfModel[];
  indexes: DmmfIndex[];
}

interface SchemaWasmExports {
  memory: WebAssembly.Memory;
  get_dmmf(ptr: number, len: number): [number, number, number, number];
  __wbindgen_malloc(size: number, align: number): number;
  __wbindgen_free(ptr: number, len: number, align: number): void;
  __wbindgen_externrefs: WebAssembly.Table;
  __externref_table_dealloc(index: number): void;
  __wbindgen_start(): void;
}

let instance: SchemaWasmExports | null = null;
let panicMessage = "";

function schemaWasmPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve("prisma/package.json")), "build", "prisma_schema_build_bg.wasm");
}

function loadSchemaWasm(): SchemaWasmExports {
  if (instance) return instance;
  const wasmModule = new WebAssembly.Module(readFileSync(schemaWasmPath()));
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let exports: SchemaWasmExports | null = null;
  const text = (ptr: number, len: number): string => {
    const memory = new Uint8Array(exports!.memory.buffer);
    return decoder.decode(memory.subarray(ptr >>> 0, (ptr >>> 0) + len));
  };
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const imp of WebAssembly.Module.imports(wasmModule)) {
    let fn: (...args: number[]) => unknown;
    if (imp.name.startsWith("__wbg_Error_")) fn = (ptr, len) => new Error(text(ptr, len));
    else if (imp.name.startsWith("__wbg___wbindgen_throw_")) {
      fn = (ptr, len) => {
        throw new Error(text(ptr, len));
      };
    } else if (imp.name.startsWith("__wbg_set_message_")) fn = (ptr, len) => (panicMessage = text(ptr, len));
    else if (imp.name === "__wbindgen_init_externref_table") {
      fn = () => {
        const table = exports!.__wbindgen_externrefs;
        const offset = table.grow(4);
        table.set(0, undefined);
        table.set(offset + 0, undefined);
        table.set(offset + 1, null);
        table.set(offset + 2, true);
        table.set(offset + 3, false);
      };
    } else {
      throw new Error(
        `prisma_schema_build_bg.wasm needs an import this reader does not provide: ${imp.module}.${imp.name}`,
      );
    }
    (imports[imp.module] ??= {})[imp.name] = fn;
  }
  exports = new WebAssembly.Instance(wasmModule, imports as WebAssembly.Imports)
    .exports as unknown as SchemaWasmExports;
  exports.__wbindgen_start();
  instance = exports;
  return exports;
}

function callStringFunction(fn: "get_dmmf", input: string): string {
  const wasm = loadSchemaWasm();
  const bytes = new TextEncoder().encode(input);
  const ptr = wasm.__wbindgen_malloc(bytes.length, 1) >>> 0;
  new Uint8Array(wasm.memory.buffer).set(bytes, ptr);
  let result: [number, number, number, number];
  try {
    result = wasm[fn](ptr, bytes.length);
  } catch (e) {
    throw new Error(`prisma schema wasm ${fn} panicked: ${panicMessage || String(e)}`);
  }
  const [outPtr, outLen, errIndex, isErr] = result;
  if (isErr) {
    const error = wasm.__wbindgen_externrefs.get(errIndex) as unknown;
    wasm.__externref_table_dealloc(errIndex);
    throw readableError(error);
  }
  try {
    return new TextDecoder().decode(new Uint8Array(wasm.memory.buffer).subarray(outPtr >>> 0, (outPtr >>> 0) + outLen));
  } finally {
    wasm.__wbindgen_free(outPtr, outLen, 1);
  }
}

/** The module reports errors as JSON `{ error_code, message }` inside an Error. */
function readableError(error: unknown): Error {
  const raw = error instanceof Error ? error.message : String(error);
  try {
    const parsed = JSON.parse(raw) as { error_code?: string; message?: string };
    if (parsed.message)
      return new Error(parsed.error_code ? `${parsed.error_code}: ${parsed.message}` : parsed.message);
  } catch {
    // not JSON: keep the raw text
  }
  return error instanceof Error ? error : new Error(raw);
}

/**
 * The datamodel part of the DMMF of a Prisma schema (source text). Throws
 * with Prisma's validation messages when the schema is invalid.
 */
export function getDatamodel(schema: string, fileName = "schema.prisma"): DmmfDatamodel {
  const json = callStringFunction("get_dmmf", JSON.stringify({ prismaSchema: [[fileName, schema]], noColor: true }));
  return (JSON.parse(json) as { datamodel: DmmfDatamodel }).datamodel;
}
