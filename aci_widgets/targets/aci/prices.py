"""What a container group costs per hour at list price, for the panel: a deployed service bills every second.

ACI bills Linux container groups per second for the vCPUs and the memory asked for. The two figures below are NOT
verified. They were written from memory (pay-as-you-go, USD, Linux, East US, as remembered for mid-2024) and, on
2026-12-03, could not be checked against Azure's pricing page
(https://azure.microsoft.com/pricing/details/container-instances/), which the project's search tools do not reach.
What public text was reachable does not settle them either: gists of 2018 (lukemerrett/4485dacf93e75dab7949427f0406c60e
and two forks) priced GBP 0.0000112 per vCPU-second and GBP 0.0000038 per GB-second, and a public cost script
"as of Jan 2026" uses USD 0.0000125 and 0.0000014; neither is Azure's own page. The estimate is therefore a guide
to the order of magnitude, not a bill, and the notice the user sees says so and where to check. Whoever verifies
the figures sets ``PRICES_VERIFIED`` to the date they read the page, and updates both figures together.
"""

from __future__ import annotations

PRICE_SOURCE = "https://azure.microsoft.com/pricing/details/container-instances/"
PRICES_VERIFIED: str | None = None   # the date the figures were read off PRICE_SOURCE; None: never verified
PRICES_REMEMBERED = "mid-2024"       # when the unverified figures were believed current
USD_PER_VCPU_SECOND = 0.0000113
USD_PER_GB_SECOND = 0.0000012


def usd_per_hour(cpu_cores: float, memory_gb: float) -> float:
    return 3600 * (cpu_cores * USD_PER_VCPU_SECOND + memory_gb * USD_PER_GB_SECOND)


def cost_notice(cpu_cores: float, memory_gb: float) -> str:
    """One line: the size, its list price per hour and per 30-day month, how sure the prices are and where to check
    them."""
    hourly = usd_per_hour(cpu_cores, memory_gb)
    basis = (f"at ACI's Linux list prices read on {PRICES_VERIFIED}" if PRICES_VERIFIED else
             f"at ACI's Linux list prices as remembered for {PRICES_REMEMBERED}, not verified: check")
    return (f"Cost: {cpu_cores:g} vCPU and {memory_gb:g} GB bill about ${hourly:.3f} per hour (${hourly * 720:.2f} "
            f"per 30 days) while the group exists, {basis} {PRICE_SOURCE}; delete the service when you no longer "
            "need it.")
