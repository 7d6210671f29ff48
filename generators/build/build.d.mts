// Types of build.mjs (plain JavaScript: it runs before anything is compiled), for the TypeScript that imports it.
// Keep in step with build.mjs.
export declare const BUILD_DIR: string;
export declare const ROOT: string;
export declare function inputsHash(root?: string): string;
export declare function commandFiles(root?: string): Map<string, string>;
export declare function entries(root?: string): string[];
export declare function staleReason(root?: string): string | undefined;
export declare function build(root?: string, options?: { log?: (line: string) => void }): Promise<void>;
export declare function ensureBuilt(command: string, root?: string, options?: { log?: (line: string) => void }): Promise<string>;
export declare const VENDOR_BUNDLES: Record<string, Record<string, string>>;
export declare const BUNDLED_PACKAGES: string[];
export declare function vendorSource(name: string): string;
export declare function asciiSource(text: string): string;
