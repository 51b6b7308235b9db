"""A simulated tfgateway: DNS subdomains and delegations, TCP proxies, reverse tunnels and 4to6."""
