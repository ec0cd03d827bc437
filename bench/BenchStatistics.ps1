# Dot-sourced by the bench scripts: the statistics they report.

# The middle value (of an even count, the upper of the two middle ones): a run slowed by the shared machine moves it
# less than it moves a mean.
function Median($values) { @($values | Sort-Object)[[int][math]::Floor(@($values).Count / 2)] }
