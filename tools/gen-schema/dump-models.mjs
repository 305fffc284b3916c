// Prints {ModelName: [{baseName, type, format}, ...]} for every model class in the
// @kubernetes/client-node models directory given as argv[2], read through the classes'
// own getAttributeTypeMap() rather than by parsing their source.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) {
    console.error('usage: node dump-models.mjs MODELS_DIR');
    process.exit(2);
}
const out = {};
for (const file of fs.readdirSync(dir).sort()) {
    if (!file.endsWith('.js')) continue;
    const name = file.slice(0, -3);
    const mod = await import(pathToFileURL(path.join(dir, file)).href);
    const cls = mod[name];
    if (typeof cls !== 'function' || typeof cls.getAttributeTypeMap !== 'function') continue;
    out[name] = cls.getAttributeTypeMap().map((a) => ({
        baseName: a.baseName,
        type: a.type,
        format: a.format || '',
    }));
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
