# Latchkey in a container: a release build, then a small Debian runtime that runs
# `latchkey serve` as an unprivileged user, with the SQLite database (and its key
# file) on the /data volume. See "Running in production" in the README.
#
#   docker build -t latchkey .
#   docker run -p 8080:8080 -v latchkey-data:/data -e LATCHKEY_PUBLIC_URL=https://auth.example.com latchkey

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin latchkey \
 && install -D -m 0755 target/release/latchkey /out/latchkey

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin latchkey \
 && install -d -o latchkey -g latchkey -m 0700 /data
COPY --from=build /out/latchkey /usr/local/bin/latchkey
USER latchkey
WORKDIR /data
VOLUME ["/data"]
ENV LATCHKEY_LISTEN=0.0.0.0:8080 \
    LATCHKEY_DATABASE_URL=sqlite:///data/latchkey.db
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
