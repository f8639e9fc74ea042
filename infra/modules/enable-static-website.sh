#!/bin/sh
# Run by the deployment script in static-website.bicep (ACCOUNT, INDEX_DOCUMENT and ERROR_DOCUMENT come
# from its environment), or by hand; see infra/README.md. Signs in as an Entra identity, never with a key.
# Role assignments take a minute or two to reach the data plane, so it retries.
set -eu
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if az storage blob service-properties update --account-name "$ACCOUNT" --auth-mode login \
      --static-website --index-document "${INDEX_DOCUMENT:-index.html}" --404-document "${ERROR_DOCUMENT:-404.html}"; then
    if [ -n "${AZ_SCRIPTS_OUTPUT_PATH:-}" ]; then
      az storage blob service-properties show --account-name "$ACCOUNT" --auth-mode login \
        --query '{staticWebsite: staticWebsite}' > "$AZ_SCRIPTS_OUTPUT_PATH"
    fi
    exit 0
  fi
  echo "attempt $attempt failed; retrying in 30 s" >&2
  sleep 30
done
exit 1
