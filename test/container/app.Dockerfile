# The test's app image on top of a linkfwd image (BASE): PostgreSQL's and Redis's clients, so
# that real clients talk to the servers through linkfwd; the ENTRYPOINT and user stay BASE's.
ARG BASE
FROM ${BASE}
ARG APP_USER
USER root
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client redis-tools procps \
  && rm -rf /var/lib/apt/lists/*
USER ${APP_USER}
