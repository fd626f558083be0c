.PHONY: run test
# Starts the bundled identity server and opens the app against it.
run:
	./scripts/run.sh
# Runs every test: unit, integration (real identity server, real keychain) and end-to-end (real window).
test:
	./scripts/test.sh
