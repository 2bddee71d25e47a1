"""The data contract: the only code that reads input files (data folders and the council
configuration), checks them and hands on typed data."""
