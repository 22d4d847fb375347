// The version the manifest records and --version prints: the package's own, inlined at build time.
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
