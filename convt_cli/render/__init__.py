"""Rich renderables: each reads records computed elsewhere and only lays them out."""
