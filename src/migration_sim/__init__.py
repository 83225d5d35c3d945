"""migration_sim: cybercriminal platform migration under enforcement shocks."""
