/** Types of templates.mjs (plain JavaScript: the build runs it before anything is compiled). */
export declare const TEMPLATE_OPTIONS: { noEscape: boolean; strict: boolean };
export declare function precompileTemplates(text: string, handlebars?: { precompile(source: string, options: object): string }, path?: string): { text: string; count: number };
export declare function templatesPlugin(): { name: string; setup(build: unknown): void };
