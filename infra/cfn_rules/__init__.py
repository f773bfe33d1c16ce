"""The house rules for template.yaml as cfn-lint rules (`make validate` appends them with
`cfn-lint --append-rules infra/cfn_rules`). Generic on purpose: they hold for resources added later."""
