"""Pure Block Kit rendering: data in, blocks out. Nothing here talks to Slack or Hamsa."""
