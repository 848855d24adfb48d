"""Infrastructure: settings loading, database, bulk insert, errors, clock, accounts, audit."""
