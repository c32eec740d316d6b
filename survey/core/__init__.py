"""Pure domain logic: statistics, screening, figures, scoring. No Flask, no sqlite."""
