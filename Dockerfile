# Falconet in a container: built with the same make targets CI runs, served
# as a non-root user with its data in the /data volume.
#   docker build -t falconet .
#   docker run -p 8080:8080 -v falconet-data:/data falconet
#   docker logs <container>      (the first start prints the set-up link for the first admin)
#   docker exec <container> falconet -c /etc/falconet/settings.yaml token create ci

FROM debian:12-slim AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
	libarchive-dev libargon2-dev libyaml-dev nettle-dev libconfig-dev \
	libssl-dev libsquashfs-dev libcurl4-openssl-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY server ./server
COPY migrations ./migrations
RUN make deps && make WERROR=1 && strip build/falconet

FROM debian:12-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	libmicrohttpd12 libjansson4 libsqlite3-0 libarchive13 libargon2-1 \
	libyaml-0-2 libnettle8 libconfig9 libssl3 libsquashfs1 libcurl4 curl \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home /data --shell /usr/sbin/nologin falconet \
	&& mkdir -p /data /etc/falconet && chown falconet /data
COPY --from=build /src/build/falconet /usr/local/bin/falconet
COPY web /usr/share/falconet/web
RUN find /usr/share/falconet/web -type f \( -name '*.js' -o -name '*.css' -o \
	-name '*.html' -o -name '*.svg' \) -exec gzip -9 -n -k -f {} +
COPY settings.yaml /etc/falconet/settings.yaml
RUN sed -i -e 's|^data_dir:.*|data_dir: /data|' \
	-e 's|^  web_dir:.*|  web_dir: /usr/share/falconet/web|' /etc/falconet/settings.yaml \
	&& falconet -c /etc/falconet/settings.yaml -n
USER falconet
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["falconet", "-c", "/etc/falconet/settings.yaml"]
