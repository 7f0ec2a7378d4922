// The Handlebars instance behind `k8slab render`: no HTML escaping (the outputs are Ruby and bash, whose
// quoting the helpers do), strict lookups, our helpers, the partials in templates/partials/, and the
// shell pieces of provision/ inlined so each generated script stands on its own. Every source is read
// with its line endings made LF: a CRLF checkout (Git for Windows' default) would otherwise give scripts
// whose `set -euo pipefail` dies with "pipefail: invalid option name" once uploaded over SFTP.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { PROVISION_DIR, TEMPLATES_DIR } from '../paths.js';
import { int, rb, sh, yamlString } from './helpers.js';

export interface Engine {
  render(template: string, view: object): string;
}

export interface EngineDirs {
  templates: string;
  provision: string;
}

const cache = new Map<string, Engine>();

/** One engine per directory pair, compiled once per process. */
export function getEngine(dirs: EngineDirs = { templates: TEMPLATES_DIR, provision: PROVISION_DIR }): Engine {
  const key = `${dirs.templates}\0${dirs.provision}`;
  let engine = cache.get(key);
  if (!engine) {
    engine = createEngine(dirs);
    cache.set(key, engine);
  }
  return engine;
}

export function createEngine(dirs: EngineDirs): Engine {
  const hb = Handlebars.create();
  hb.registerHelper('sh', (v: unknown) => sh(v));
  hb.registerHelper('rb', (v: unknown) => rb(v));
  hb.registerHelper('int', (v: unknown) => int(v));
  hb.registerHelper('yaml', (v: unknown) => yamlString(v));
  // Joins strings (the last argument is Handlebars' options object, left out).
  hb.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map((a) => String(a)).join(''));
  hb.registerHelper('provision', (name: unknown) => provisionPiece(dirs.provision, name));

  const partialsDir = join(dirs.templates, 'partials');
  for (const file of listHbs(partialsDir)) {
    hb.registerPartial(basename(file, '.hbs'), readSource(join(partialsDir, file)));
  }
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  return {
    render(template, view) {
      let fn = compiled.get(template);
      if (!fn) {
        const source = readSource(join(dirs.templates, `${template}.hbs`));
        fn = hb.compile(source, { noEscape: true, strict: true });
        compiled.set(template, fn);
      }
      try {
        return fn(view);
      } catch (err) {
        throw new Error(`templates/${template}.hbs: ${(err as Error).message}`);
      }
    },
  };
}

const pieces = new Map<string, string>();

/** provision/NAME.sh without its shebang: each piece is a valid script on its own (for shellcheck and tests). */
function provisionPiece(dir: string, name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new TypeError(`provision: expected a piece name such as "retry", got ${String(name)}`);
  }
  const file = join(dir, `${name}.sh`);
  let text = pieces.get(file);
  if (text === undefined) {
    text = readSource(file).replace(/^#!.*\n/, '').trimEnd();
    pieces.set(file, text);
  }
  return text;
}

/** A template, partial or piece as text with LF line endings, whatever the checkout did to it. */
function readSource(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r\n?/g, '\n');
}

function listHbs(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.hbs'))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
