# Falconet in a container: built with the Makefile CI uses, served as a
# non-root user (uid and gid 10001) with its data in the /data volume.
#   make image                   (docker or podman, whichever works here)
#   docker run -d --name falconet -p 8080:8080 -v falconet-data:/data falconet
#   docker logs falconet         (the first start prints the set-up link for the first admin)
#   docker exec falconet falconet token create ci
# A bind mount instead of a volume must be writable by uid 10001:
#   mkdir -p /srv/falconet && chown 10001:10001 /srv/falconet
# BASE_IMAGE is Debian 12: Docker Hub's debian:12-slim, or the equivalent
# tests/image/mkbase.sh makes with mmdebstrap where no registry is reachable.
ARG BASE_IMAGE=debian:12-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends gcc libc6-dev make pkg-config binutils \
	libmicrohttpd-dev libjansson-dev libsqlite3-dev libarchive-dev \
	libargon2-dev libyaml-dev nettle-dev libconfig-dev libssl-dev \
	libsquashfs-dev libcurl4-openssl-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY server ./server
COPY migrations ./migrations
COPY container ./container
RUN make -j"$(nproc)" WERROR=1 && strip build/falconet
# An empty ICU data library for the runtime (see container/icudata-stub.c),
# for the ICU version this Debian ships.
RUN v=$(ls /usr/lib/*/libicuuc.so.*.* | sed -n 's/.*libicuuc\.so\.\([0-9]*\)\..*/\1/p') \
	&& mkdir -p build/icu && gcc -O2 -Wall -Wextra -Werror -shared -fPIC \
	    -Wl,-soname,libicudata.so."$v" -DICU_MAJOR="$v" \
	    -o build/icu/libicudata.so."$v" container/icudata-stub.c \
	&& strip build/icu/libicudata.so."$v"

# The runtime libraries the binary links, and the two it loads with dlopen
# when first needed: libarchive13 (reading .swu images) and libcurl4 (with
# ca-certificates: checking external artifacts once).  ICU, which comes
# with libarchive's libxml2, is installed without its data library (31 MB)
# and the libraries nothing links; the empty data library stands in.
FROM ${BASE_IMAGE}
ARG FALCONET_UID=10001
COPY --from=build /src/build/icu/ /usr/local/lib/
RUN printf '%s\n' 'path-exclude=/usr/lib/*/libicudata.so.*' \
	    'path-exclude=/usr/lib/*/libicui18n.so.*' \
	    'path-exclude=/usr/lib/*/libicuio.so.*' \
	    'path-exclude=/usr/lib/*/libicutest.so.*' \
	    'path-exclude=/usr/lib/*/libicutu.so.*' \
	    >/etc/dpkg/dpkg.cfg.d/falconet-icu \
	&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends libmicrohttpd12 libjansson4 libsqlite3-0 \
	libargon2-1 libyaml-0-2 libnettle8 libconfig9 libssl3 libsquashfs1 \
	libarchive13 libcurl4 ca-certificates \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt/* \
	    /var/log/dpkg.log \
	&& ! ldd /usr/lib/*/libarchive.so.13 /usr/lib/*/libcurl.so.4 | grep 'not found' \
	&& groupadd --system --gid "$FALCONET_UID" falconet \
	&& useradd --system --uid "$FALCONET_UID" --gid falconet \
	    --home-dir /data --no-create-home --shell /usr/sbin/nologin falconet \
	&& mkdir -p /data /etc/falconet && chown falconet:falconet /data \
	&& chmod 0700 /data
COPY --from=build /src/build/falconet /usr/local/bin/falconet
COPY web /usr/share/falconet/web
RUN find /usr/share/falconet/web -type f \( -name '*.js' -o -name '*.css' -o \
	-name '*.html' -o -name '*.svg' \) -exec gzip -9 -n -k -f {} +
COPY settings.yaml /etc/falconet/settings.yaml
# falconet reads ./settings.yaml by default: every subcommand (token,
# user, backup, health) finds the server's settings without -c.
WORKDIR /etc/falconet
RUN sed -i -e 's|^data_dir:.*|data_dir: /data|' \
	-e 's|^  web_dir:.*|  web_dir: /usr/share/falconet/web|' /etc/falconet/settings.yaml \
	&& falconet -n
USER falconet
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s \
	CMD ["falconet", "health"]
ENTRYPOINT ["falconet"]
