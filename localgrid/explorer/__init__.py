"""The explorer side of localgrid: phonebook, directory, reservations, escrow and their HTTP routes."""
