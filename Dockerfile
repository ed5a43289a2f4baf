# The AlertNet image: one image for every role (AlertNet:Role = web, worker or all) and for the migration step
# (`dotnet AlertNet.dll migrate`). Build from the repository root: docker build -t alertnet .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/AlertNet/AlertNet.csproj src/AlertNet/
RUN dotnet restore src/AlertNet/AlertNet.csproj
COPY src/ src/
RUN dotnet publish src/AlertNet/AlertNet.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# Every role listens on 8080 (a worker serves only /healthz and /readyz there, for probes). Live mode only: a
# container never generates a drill key file, so keys and Twilio credentials must come from the environment.
ENV ASPNETCORE_URLS=http://+:8080 \
    AlertNet__Mode=live \
    DOTNET_gcServer=1
EXPOSE 8080
# The non-root user of the .NET images (UID 1654).
USER app
ENTRYPOINT ["dotnet", "AlertNet.dll"]
