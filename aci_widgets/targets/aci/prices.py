"""What a container group costs per hour at list price, for the panel: a deployed service bills every second.

ACI bills Linux container groups per second for the vCPUs and the memory asked for. The table holds Azure's
published pay-as-you-go list prices (USD, Linux, East US; other regions differ by a few percent) on the date below:
a guide to the order of magnitude, not a bill. Update both together.
"""

from __future__ import annotations

PRICES_AS_OF = "2024-06-01"
PRICE_SOURCE = "https://azure.microsoft.com/pricing/details/container-instances/"
USD_PER_VCPU_SECOND = 0.0000113
USD_PER_GB_SECOND = 0.0000012


def usd_per_hour(cpu_cores: float, memory_gb: float) -> float:
    return 3600 * (cpu_cores * USD_PER_VCPU_SECOND + memory_gb * USD_PER_GB_SECOND)


def cost_notice(cpu_cores: float, memory_gb: float) -> str:
    """One line: the size, its list price per hour and per 30-day month, and where the prices come from."""
    hourly = usd_per_hour(cpu_cores, memory_gb)
    return (f"Cost: {cpu_cores:g} vCPU and {memory_gb:g} GB bill about ${hourly:.3f} per hour (${hourly * 720:.2f} "
            f"per 30 days) while the group exists, at ACI's Linux list prices of {PRICES_AS_OF} "
            f"({PRICE_SOURCE}); delete the service when you no longer need it.")
