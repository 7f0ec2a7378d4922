// Where the package's own data lives (templates, provision helpers, lesson manifests), found from this
// file so it works from src/ (tests) and dist/ (the installed CLI) alike: both sit one level below the root.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TEMPLATES_DIR = resolve(PACKAGE_ROOT, 'templates');
export const PROVISION_DIR = resolve(PACKAGE_ROOT, 'provision');
export const MANIFESTS_DIR = resolve(PACKAGE_ROOT, 'manifests');
