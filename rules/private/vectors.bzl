"""Cases the Go gauntlet model and this Starlark must both get right.

Generated from internal/gauntlet/vectors.go by `go generate ./internal/gauntlet`; DO NOT EDIT.
"""

VECTORS = json.decode(r"""
{
  "profiles": [
    {
      "name": "no flags",
      "flags": null,
      "requires": null,
      "required": null,
      "excluded": null,
      "want": [
        "default"
      ],
      "want_err": "",
      "want_count": 0
    },
    {
      "name": "all subsets meeting requirements",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": null,
      "excluded": null,
      "want": [
        "default",
        "borrow",
        "llc",
        "borrow+llc",
        "llc+steal",
        "borrow+llc+steal"
      ],
      "want_err": "",
      "want_count": 0
    },
    {
      "name": "required and excluded",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": [
        "llc"
      ],
      "excluded": [
        "borrow"
      ],
      "want": [
        "llc",
        "llc+steal"
      ],
      "want_err": "",
      "want_count": 0
    },
    {
      "name": "a required flag pulls nothing in by itself",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": [
        "steal"
      ],
      "excluded": null,
      "want": [
        "llc+steal",
        "borrow+llc+steal"
      ],
      "want_err": "",
      "want_count": 0
    },
    {
      "name": "requirement excluded",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": [
        "steal"
      ],
      "excluded": [
        "llc"
      ],
      "want": null,
      "want_err": "no flag profile satisfies the requirements of required_flags",
      "want_count": 0
    },
    {
      "name": "unknown required flag",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": [
        "turbo"
      ],
      "excluded": null,
      "want": null,
      "want_err": "required_flags: unknown flag \"turbo\"",
      "want_count": 0
    },
    {
      "name": "unknown excluded flag",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": null,
      "required": null,
      "excluded": [
        "turbo"
      ],
      "want": null,
      "want_err": "excluded_flags: unknown flag \"turbo\"",
      "want_count": 0
    },
    {
      "name": "both required and excluded",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": null,
      "required": [
        "llc"
      ],
      "excluded": [
        "llc"
      ],
      "want": null,
      "want_err": "flag \"llc\" is both required and excluded",
      "want_count": 0
    },
    {
      "name": "12 optional flags are the most",
      "flags": [
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12"
      ],
      "requires": null,
      "required": null,
      "excluded": null,
      "want": null,
      "want_err": "",
      "want_count": 4096
    },
    {
      "name": "13 optional flags are too many",
      "flags": [
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13"
      ],
      "requires": null,
      "required": null,
      "excluded": null,
      "want": null,
      "want_err": "13 optional flags make",
      "want_count": 0
    },
    {
      "name": "13 flags, one excluded, are fine",
      "flags": [
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "f13"
      ],
      "requires": null,
      "required": null,
      "excluded": [
        "f13"
      ],
      "want": null,
      "want_err": "",
      "want_count": 4096
    }
  ],
  "variants": [
    {
      "name": "no constraints",
      "flags": null,
      "requires": null,
      "required": null,
      "excluded": null,
      "min_sockets": 0,
      "min_llcs": 0,
      "min_cpus": 0,
      "requires_smt": false,
      "want_count": 19,
      "want_first": "T_gauntlet_tiny_1llc_default",
      "want_last": "T_gauntlet_max_cpu_nosmt_default"
    },
    {
      "name": "two LLCs and SMT, with profiles",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "required": [
        "llc"
      ],
      "excluded": [
        "borrow"
      ],
      "min_sockets": 0,
      "min_llcs": 2,
      "min_cpus": 0,
      "requires_smt": true,
      "want_count": 16,
      "want_first": "T_gauntlet_smt_2llc_llc",
      "want_last": "T_gauntlet_max_cpu_llc_steal"
    },
    {
      "name": "min_cpus 100",
      "flags": null,
      "requires": null,
      "required": null,
      "excluded": null,
      "min_sockets": 0,
      "min_llcs": 0,
      "min_cpus": 100,
      "requires_smt": false,
      "want_count": 8,
      "want_first": "T_gauntlet_large_4llc_default",
      "want_last": "T_gauntlet_max_cpu_nosmt_default"
    },
    {
      "name": "min_sockets 8",
      "flags": null,
      "requires": null,
      "required": null,
      "excluded": null,
      "min_sockets": 8,
      "min_llcs": 0,
      "min_cpus": 0,
      "requires_smt": false,
      "want_count": 8,
      "want_first": "T_gauntlet_medium_8llc_default",
      "want_last": "T_gauntlet_max_cpu_nosmt_default"
    },
    {
      "name": "zero minimums mean none",
      "flags": null,
      "requires": null,
      "required": null,
      "excluded": null,
      "min_sockets": 0,
      "min_llcs": 0,
      "min_cpus": 0,
      "requires_smt": false,
      "want_count": 19,
      "want_first": "T_gauntlet_tiny_1llc_default",
      "want_last": "T_gauntlet_max_cpu_nosmt_default"
    }
  ],
  "budgets": [
    {
      "name": "eevdf, 30 s",
      "scheduler": "eevdf",
      "flags": null,
      "requires": null,
      "min_llcs": 0,
      "work_types": null,
      "duration_s": 0,
      "budget_s": 30,
      "want": [
        "T_gauntlet_tiny_1llc_default",
        "T_gauntlet_smt_2llc_default",
        "T_gauntlet_medium_4llc_default"
      ]
    },
    {
      "name": "a scheduler's profiles, 60 s",
      "scheduler": "ktstr",
      "flags": [
        "llc",
        "borrow",
        "steal"
      ],
      "requires": {
        "steal": [
          "llc"
        ]
      },
      "min_llcs": 2,
      "work_types": [
        "CpuSpin",
        "Mixed"
      ],
      "duration_s": 3,
      "budget_s": 60,
      "want": [
        "T_gauntlet_tiny_2llc_borrow",
        "T_gauntlet_smt_3llc_borrow_llc",
        "T_gauntlet_medium_4llc_borrow_llc_steal",
        "T_gauntlet_odd_5llc_default",
        "T_gauntlet_odd_7llc_llc",
        "T_gauntlet_tiny_2llc_llc_steal"
      ]
    },
    {
      "name": "too small a budget picks nothing",
      "scheduler": "eevdf",
      "flags": null,
      "requires": null,
      "min_llcs": 0,
      "work_types": null,
      "duration_s": 0,
      "budget_s": 5,
      "want": null
    }
  ],
  "validations": [
    {
      "name": "a full topology with a minimum it meets",
      "attrs": {
        "sockets": 2,
        "cores": 2,
        "threads": 1,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 2,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": ""
    },
    {
      "name": "zeros are defaults",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": ""
    },
    {
      "name": "negative cores",
      "attrs": {
        "sockets": 0,
        "cores": -1,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "cores = -1: must be \u003e= 0 (0 means default)"
    },
    {
      "name": "negative memory",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": -5,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "memory_mb = -5: must be \u003e= 0 (0 means default)"
    },
    {
      "name": "negative minimum",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": -2,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "min_cpus = -2: must be \u003e= 0 (0 means default)"
    },
    {
      "name": "negative duration",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": -1
      },
      "want_err": "duration_s = -1: must be \u003e= 0 (0 means default)"
    },
    {
      "name": "too many CPUs",
      "attrs": {
        "sockets": 16,
        "cores": 16,
        "threads": 1,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "topology 16s16c1t has 256 CPUs: at most 252"
    },
    {
      "name": "min_llcs above every preset",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 16,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "min_llcs = 16 is above the maximum 15 of any preset"
    },
    {
      "name": "min_cpus above every preset",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 253,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "min_cpus = 253 is above the maximum 252 of any preset"
    },
    {
      "name": "min_sockets above the test's own",
      "attrs": {
        "sockets": 1,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 2,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "min_sockets = 2 is above the test's own sockets = 1"
    },
    {
      "name": "min_cpus above the test's own",
      "attrs": {
        "sockets": 2,
        "cores": 2,
        "threads": 1,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 8,
        "requires_smt": false,
        "duration_s": 0
      },
      "want_err": "min_cpus = 8 is above the test's own 4 CPUs"
    },
    {
      "name": "SMT required of one thread",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 1,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": true,
        "duration_s": 0
      },
      "want_err": "requires_smt = True but threads = 1"
    },
    {
      "name": "SMT required, threads unset",
      "attrs": {
        "sockets": 0,
        "cores": 0,
        "threads": 0,
        "memory_mb": 0,
        "min_sockets": 0,
        "min_llcs": 0,
        "min_cpus": 0,
        "requires_smt": true,
        "duration_s": 0
      },
      "want_err": ""
    }
  ]
}
""")
