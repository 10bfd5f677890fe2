"""The API's endpoints, one module per area: plans, data, cycles, ledger, disputes."""
