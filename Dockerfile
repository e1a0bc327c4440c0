# syntax=docker/dockerfile:1
# Build: docker build -t servicedesk_exporter .
# Run:   docker run -p 9811:9811 -v sd-data:/var/lib/servicedesk_exporter servicedesk_exporter
# Check: docker run --rm servicedesk_exporter check

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
# Static binary: the runtime image has no libc.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=main" \
      -o /out/servicedesk_exporter ./cmd/servicedesk_exporter \
 && mkdir -p /out/state/data

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="servicedesk_exporter" \
      org.opencontainers.image.description="Prometheus exporter for internal service desks (Jira Service Management, demo desk)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/servicedesk-exporter/servicedesk_exporter"
COPY --from=build /out/servicedesk_exporter /bin/servicedesk_exporter
COPY config.yaml /etc/servicedesk_exporter/config.yaml
# The config path comes from the environment, not from CMD: arguments given
# to docker run (check, --log.level=debug) replace CMD but keep ENV.
ENV SERVICEDESK_EXPORTER_CONFIG_FILE=/etc/servicedesk_exporter/config.yaml
# The store path in config.yaml is relative (data/servicedesk.db), so the
# working directory is where state lives; it must belong to the non-root user.
COPY --from=build --chown=65532:65532 /out/state /var/lib/servicedesk_exporter
WORKDIR /var/lib/servicedesk_exporter
VOLUME ["/var/lib/servicedesk_exporter"]
USER 65532:65532
EXPOSE 9811
ENTRYPOINT ["/bin/servicedesk_exporter"]
