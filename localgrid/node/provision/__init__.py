"""One provisioner per primitive; each raises ProvisionError with the node's error text."""
