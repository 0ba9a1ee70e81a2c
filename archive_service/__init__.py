"""Archive service for electronic class journals (архив электронных классных журналов)."""
