"""Demo data: a year of plausible staff, completions, projects and board meetings, written
through the same services the API uses (`iqt demo-data`). Above every domain: nothing imports it
but the CLI."""
