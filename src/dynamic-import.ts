// How the CLI reaches the modules it loads only when a command needs them (plop for the
// wizard, child_process for git). The bin runs the bundle as a script compiled from V8's
// code cache, and on Node 20 such a script cannot call import() itself: the bin hands in
// its own import, which resolves from the package's folder as this module's would.

export type ImportModule = (specifier: string) => Promise<unknown>;

let importer: ImportModule = (specifier) => import(specifier);

export function setModuleImporter(importModule: ImportModule): void {
  importer = importModule;
}

/** The module's namespace; the caller names the shape it expects. */
export async function importModule<T>(specifier: string): Promise<T> {
  return (await importer(specifier)) as T;
}
