// The text of --help. The usage lines are the command-line contract, verbatim.
export const HELP = `create-deploy: one deploy.yaml becomes a consistent, secure set of deployment files
(Dockerfiles, compose and swarm stacks, systemd units, env files, firewall rules, workflows).

Usage:
  create-deploy                      # in a terminal with no deploy.yaml: the wizard
  create-deploy init [--yes] [--preset NAME] [--name NAME] [--dir DIR]
  create-deploy generate [--config FILE] [--out DIR] [--dry-run] [--force]
  create-deploy check    [--config FILE] [--out DIR]
  create-deploy diff     [--config FILE] [--out DIR]
  create-deploy validate [--config FILE]
  create-deploy --help | --version

Commands:
  (none)    In a terminal, with no deploy.yaml here: the wizard (same as init).
            With a deploy.yaml here: says so and suggests \`create-deploy generate\`.
  init      Write deploy.yaml from a few questions (or from flags with --yes), then generate.
  add       Add a service (database, cache, worker or web) to deploy.yaml, keeping its
            comments and order, then generate:
            create-deploy add [--type KIND] [--name NAME] [--command CMD] [--port N] [--yes]
  generate  Write the deployment files and .create-deploy/manifest.json. Files changed by hand
            are never overwritten silently: generate refuses and lists them.
  check     Exit 1 when a generated file is stale, missing, obsolete or edited by hand (for CI).
  diff      Print what generate would change as a unified diff; with --summary, a short
            Markdown account of the change for reviewers (ports opened, root, secrets…).
  validate  Check deploy.yaml and print its problems.

Options:
  --config FILE  The descriptor (default: ./deploy.yaml, else ./deploy.yml).
  --out DIR      The output folder (default: the descriptor's folder).
  --dry-run      Print what generate would do (create, update, remove, keep, edited); write nothing.
  --force        Overwrite (or remove) generated files that were edited by hand.
  --summary      diff: summarise the change instead (added, changed, removed files; risks).
  --base FILE    diff --summary: the previous descriptor (default: as committed at git HEAD;
                 an empty file means there was none).
  --yes          init without questions.
  --preset NAME  init from a preset: compose, systemd, compose-nodes, swarm, image-ci
                 (deployment shapes), or bids-flux, dicom-pipeline, genui, mlops-api (examples).
  --name NAME    The project's name for init.
  --dir DIR      The folder init works in (default: the current folder).
  --runtime R, --shape S, --port N|none, --command CMD, --database none|postgres,
  --cache none|redis, --gpu, --registry ghcr.io|quay.io|docker.io|none,
  --firewall none|ufw|firewalld|nftables
                 Answer one of init's questions (--shape is a preset's shape).
  -h, --help     Show this help.
  --version      Print the version.

Exit codes: 0 success; 1 invalid descriptor, stale or hand-edited files (check),
refused overwrite (generate); 2 usage error.`;
