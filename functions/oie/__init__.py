"""Outbound Intent Engine: one package behind every Cloud Function entry point."""
