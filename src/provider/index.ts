// The provider stage: where the lab's machines live. `providerFor` picks the implementation lab.yaml
// names; every command reaches the machines through the Provider interface (types.ts) only.
import type { Plan } from '../plan/plan.js';
import type { LabState } from '../state/lab-state.js';
import type { Provider } from './types.js';
import { VagrantProvider } from './vagrant-provider.js';
import { MachinesProvider } from './machines-provider.js';

export type { Provider, SshTarget, MachineState, Leftovers, DestroyResult, Snapshots, MachineProgress, ProviderCallOptions } from './types.js';
export { describeTarget } from './types.js';

export interface ProviderContext {
  plan: Plan;
  labDir: string;
  logDir: string;
  /** the lab state, where a provider keeps what it must remember between commands */
  state: LabState;
  save(): Promise<void>;
}

export function providerFor(c: ProviderContext): Provider {
  const provider = c.plan.provider;
  switch (provider) {
    case 'virtualbox':
    case 'libvirt':
      return new VagrantProvider({
        name: c.plan.name,
        provider,
        nodes: c.plan.nodes.map((n) => ({ name: n.name, role: n.role })),
        labDir: c.labDir,
        logDir: c.logDir,
        state: c.state,
        save: c.save,
      });
    case 'machines':
      return new MachinesProvider(c.plan.machines ?? []);
    default: {
      const unknown: never = provider;
      throw new Error(`no provider "${String(unknown)}"`);
    }
  }
}
