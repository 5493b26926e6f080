"""The daily digest: each site's coordinators get, at a time set in the site's own zone, who
missed diary nights and what waits for review. Not sent when there is nothing to report."""
