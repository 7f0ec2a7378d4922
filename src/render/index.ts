// The render stage: Plan + secrets -> the lab folder (Vagrantfile, the four scripts, the lab CA).
export { renderFiles, SCRIPTS, TEARDOWN_SCRIPT, CA_CERT_PATH, CA_KEY_PATH, type RenderedFile, type RenderSecrets } from './files.js';
export { renderLab, type RenderLabOptions, type WrittenFile } from './write.js';
