#!/bin/sh
# A client-go exec credential plugin for kubedrift's tests: prints an
# ExecCredential carrying the token from KUBEDRIFT_TEST_TOKEN, or fails when
# KUBEDRIFT_TEST_FAIL is set, as a real plugin does when its login expired.
if [ -n "$KUBEDRIFT_TEST_FAIL" ]; then
	echo "test plugin: login required" >&2
	exit 1
fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$KUBEDRIFT_TEST_TOKEN"
