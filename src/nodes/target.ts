// Where a node's sshd is and how to log in: the provider lists these (src/provider/types.ts); this
// layer never knows about Vagrant.
export { describeTarget, type SshTarget } from '../provider/types.js';
