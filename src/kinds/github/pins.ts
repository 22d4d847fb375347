// The actions the generated workflows use, each pinned to the full commit SHA of a release.
// A tag can be moved to other code at any time; a commit cannot, so `uses:` names the
// commit and keeps the release in a comment for people and for update tools (Dependabot
// and Renovate both read `@SHA # vX.Y.Z`).
//
// These are the commits the release tags pointed at when they were read from each
// action's public repository. Change a pin only to another release's commit, read the same
// way; test/github.test.ts fails when a workflow uses an action missing from this table.

export interface ActionPin {
  /** Release tag the commit belongs to. */
  version: string;
  /** Full 40-hex commit SHA of that release. */
  commit: string;
}

export const ACTION_PINS = {
  "actions/checkout": { version: "v7.0.1", commit: "3d3c42e5aac5ba805825da76410c181273ba90b1" },
  "actions/setup-node": { version: "v7.0.0", commit: "820762786026740c76f36085b0efc47a31fe5020" },
  "docker/build-push-action": { version: "v7.3.0", commit: "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a" },
  "docker/login-action": { version: "v4.1.0", commit: "4907a6ddec9925e35a0a9e82d7399ccc52663121" },
  "docker/metadata-action": { version: "v6.2.0", commit: "dc802804100637a589fabce1cb79ff13a1411302" },
  "docker/setup-buildx-action": { version: "v4.3.0", commit: "37fe631027851001ddb9b187196cc803df7f5f0e" },
  "docker/setup-qemu-action": { version: "v4.2.0", commit: "96fe6ef7f33517b61c61be40b68a1882f3264fb8" },
  "sigstore/cosign-installer": { version: "v4.1.2", commit: "6f9f17788090df1f26f669e9d70d6ae9567deba6" },
} as const satisfies Record<string, ActionPin>;

export type PinnedAction = keyof typeof ACTION_PINS;

/** The `uses:` reference of an action: `owner/repo@<commit>`. */
export function usesReference(action: PinnedAction): string {
  return `${action}@${ACTION_PINS[action].commit}`;
}
