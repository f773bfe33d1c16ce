"""HTTP plumbing shared by the API functions: the resolver, error shape, caller identity."""
